"""One module per Task state: ``<function>.run(document, clients, settings)`` returns the state's output.

Named after the function the state's Resource invokes (statemachine/autotuner.asl.json): the
``ValidatePermissionsFunction`` runs ``validate_permissions.run``. ``functions/<function>/app.py``
applies the middleware (``handler.py``) to it; the step holds the state's orchestration and calls
the core modules for the rest.
"""
