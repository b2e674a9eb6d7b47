"""First-session link to /definitions: hands over to the router (see ui/first_session.py)."""

from ui.first_session import hand_over

hand_over()
