"""Every session_state key the app uses, named once. Widget keys are prefixed with their page."""

PROFILE = "active_profile_id"          # the profile the sidebar selected
SESSIONS = "chat_session_by_profile"   # {profile id: chat session id}
COMPARE = "compare_result"             # the latest comparison: message, traces per granularity
PARTICIPANT = "study_participant_id"   # study mode: the joined participant
ADMIN_OK = "study_admin_unlocked"      # the admin passphrase was given in this browser session
PENDING_ASK = "chat_pending_message"   # "ask again" re-sends this message
FLASH = "flash_messages"              # feedback that must survive a rerun: [(kind, text)]
BROWSER = "browser_token"              # private workshops: which profiles this browser made
SIDEBAR_GEN = "sidebar_generation"     # bumped when a page selects a profile: the sidebar box gets a fresh key
EXPLAIN = "explain_run"                # "Explain this answer": {"run": explanation id, "go": run it now}
BIAS = "bias_probe_result"             # the latest bias probe result (a dict)
MODE = "chat_granularity"               # the Chat page's granularity, kept across page switches and Back
CHAT_PERSONA = "chat_active_persona"   # the Chat page's persona choice, kept likewise
