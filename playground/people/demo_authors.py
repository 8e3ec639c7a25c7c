"""The three Federalist authors as demo profiles: their attributes, used by the demo loader and by the privacy
rules (demo profiles stay public when a workshop makes profiles private)."""

from __future__ import annotations

AUTHORS = {
    "HAMILTON": {"display_name": "Alexander Hamilton", "occupation": "lawyer, essayist", "location": "New York",
                 "interests": "finance, a strong executive, the army and navy, the courts",
                 "preferred_tone": "forceful, formal"},
    "MADISON": {"display_name": "James Madison", "occupation": "planter, legislator", "location": "Virginia",
                "interests": "factions, representation, the separation of powers",
                "preferred_tone": "measured, analytical"},
    "JAY": {"display_name": "John Jay", "occupation": "diplomat, lawyer", "location": "New York",
            "interests": "foreign affairs, treaties, national unity", "preferred_tone": "calm, diplomatic"},
}
