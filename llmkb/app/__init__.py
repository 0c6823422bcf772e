"""What the Gradio demo serves, free of any UI: backbones (dense or RRAM-pruned), chat sessions, the cost panel.

``app.py`` only lays out and renders what this package returns.
"""
