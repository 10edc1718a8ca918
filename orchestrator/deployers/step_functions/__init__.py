"""AWS Step Functions: ``step-functions create|trigger|list-runs|delete`` and Metaflow's ``Deployer``.

``asl`` compiles the graph to a state machine (pure), ``refuse`` says what
cannot run there, ``record`` is the deployment every job reads, ``entry``
runs inside each job, ``deploy`` talks to AWS, ``events`` shapes the
EventBridge rules, and ``cli``/``deployer`` are the user's two doors in.
"""
