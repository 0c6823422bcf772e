"""Knowledge bases: mapping dictionaries and one document per catalogue item."""

from llmkb.kb.build import build_kb, default_kb_dir, load_kb
from llmkb.kb.dictionaries import MappingDictionaries, build_dictionaries
from llmkb.kb.documents import KBDocument, build_documents, render_text

__all__ = ["build_kb", "default_kb_dir", "load_kb", "MappingDictionaries", "build_dictionaries", "KBDocument",
           "build_documents", "render_text"]
