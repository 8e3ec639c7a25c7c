"""Reusable Streamlit widgets. Only this package and pages/ import streamlit; charts.py builds plotly figures from
plain data and renders nothing."""
