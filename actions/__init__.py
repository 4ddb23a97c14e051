"""Rasa custom actions. Importing the package masks NIK and phone numbers in every log record of
the action server (messages and tracebacks alike), before any action runs."""

from bot.masking import install_log_masking

install_log_masking()
