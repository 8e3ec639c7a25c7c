"""The baseline for the start-up benchmark: the smallest Streamlit page."""

import streamlit as st

st.title("Bare page")
st.write("A baseline for first paint.")
