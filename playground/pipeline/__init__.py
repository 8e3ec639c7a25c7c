"""The personalization pipeline of a turn: choose the scope (user, persona, global), retrieve snippets, assemble the
labelled prompt, and keep the conversation with its traces."""
