"""Contender scripts: each runs as its own process, `python <script> TASK_JSON RESULT_JSON`."""
