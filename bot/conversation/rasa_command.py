"""The `rasa` command as `wegwijs train` runs it (`python -m bot.conversation.rasa_command ...`):
Rasa's own command line, without the libraries' deprecation notices that its imports print
(Sanic, pkg_resources, pyparsing through matplotlib) and that staff cannot act on."""

from bot.logging_setup import hide_library_deprecations

if __name__ == "__main__":
    hide_library_deprecations()
    from rasa.__main__ import main

    main()
