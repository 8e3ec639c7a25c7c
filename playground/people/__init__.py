"""People and the groups they join: profiles, personas, persona membership and the consent that decides whose
writing another person's answer may use."""
