"""Knowledge bases: one document per catalogue item, the facts index over them, and entity linking into it."""

from llmkb.kb.build import build_kb, default_kb_dir, load_kb
from llmkb.kb.documents import KBDocument, build_documents, render_text
from llmkb.kb.facts import FactIndex, Preference, describe
from llmkb.kb.linking import EntityLinker

__all__ = ["build_kb", "default_kb_dir", "load_kb", "KBDocument", "build_documents", "render_text", "FactIndex",
           "Preference", "describe", "EntityLinker"]
