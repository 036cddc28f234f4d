"""``sqlml shell``: an interactive SQL prompt with ML built in, and its non-interactive forms.

* :mod:`.statement_input` decides when typed text is a complete script (ends with ``;`` outside
  strings and blocks), using the same parser that runs it;
* :mod:`.session` runs statements and dot-commands and prints results, whatever the front end;
* :mod:`.dot_commands` holds ``.tables``, ``.describe``, ``.mode`` and the rest;
* :mod:`.completion` offers keywords, ML functions, options and catalog names;
* :mod:`.app` is the prompt_toolkit front end (highlighting, history, completion, Ctrl-C).
"""
