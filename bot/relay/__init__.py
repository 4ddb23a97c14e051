"""The admin side in the chats admins already use: registration, commands, buttons, the petugas relay."""
