"""Fakes of the Telegram Bot API and LINE Messaging API for tests and the offline demo."""
