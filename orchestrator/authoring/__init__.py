"""The authoring layer: what a flow file is written with, and how orch reads one.

FlowSpec and ``self.next`` (``flowspec``), the step and flow decorators and
their frozen specs (``decorators``, ``decorator_specs``, ``argcheck``),
Parameter and IncludeFile (``parameters``), Config (``user_configs``),
``current``, @project names, @secrets sources, Metaflow's mutator API, and
the loader that imports a flow file and builds its graph. Task containers
import this layer: standard library only, Python 3.8 compatible.
"""
