"""Cards of every kind on one flow: the default card with components, several cards on one step told
apart by id, a card that raises, one that hangs past its timeout, and a step that fails."""

from orchestrator import FlowSpec, Parameter, card, catch, current, step
from orchestrator.cards import Artifact, Error, Markdown, ProgressBar, Table


class CardsFlow(FlowSpec):
    greeting = Parameter("greeting", default="hello cards")
    fail = Parameter("fail", type=bool, default=False)

    @card
    @step
    def start(self):
        self.items = ["a", "b", "c"]
        self.secret_of_size = list(range(10))
        current.card.append(Markdown("# Start of *%s*\n\n- one\n- two" % self.greeting))
        current.card.append(Table([[1, "x"], [2, Markdown("**bold cell**")]], headers=["n", "what"]))
        current.card.append("a plain string is not a component")
        self.next(self.each, foreach="items")

    @card(type="blank", id="progress")
    @card(id="summary")
    @card
    @step
    def each(self):
        self.letter = self.input.upper()
        bar = ProgressBar(max=3, label="letters", value=self.items.index(self.input) + 1)
        current.card["progress"].append(bar)
        current.card.append(Artifact(self.letter, name="letter"))
        current.card["nope"].append(Markdown("dropped: no card has this id"))
        self.next(self.join)

    @card(type="test_error_card")
    @card(type="test_error_card", id="quiet", save_errors=False)
    @card(type="test_timeout_card", id="slow", timeout=1, options={"timeout": 30})
    @step
    def join(self, inputs):
        self.letters = sorted(i.letter for i in inputs)
        self.next(self.risky)

    @catch(var="problem")
    @card(type="blank")
    @step
    def risky(self):
        current.card.append(Markdown("before the failure"))
        if self.fail:
            raise ValueError("risky went wrong")
        self.next(self.end)

    @step
    def end(self):
        current.card.append(Error("no @card here: this warns and is dropped"))


if __name__ == "__main__":
    CardsFlow()
