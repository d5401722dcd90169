"""The planner: ``probmodel serve``, a local web page where every assumption is a control.

:mod:`.engine` answers (the same numbers as ``probmodel run``), :mod:`.app` is the JSON
API and the page, :mod:`.server` serves them, :mod:`.saving` writes a view as a file.
"""
