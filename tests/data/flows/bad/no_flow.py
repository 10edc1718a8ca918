def helper():
    return 1

# Expected problems, one per line (LINE: message), checked by tests/unit/graph/test_lint_corpus.py:
# expect: 1: No flow found in {file}. Define a class that inherits from FlowSpec, e.g. 'class MyFlow(FlowSpec):'.
