from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import DictionaryVersion, EntityDefinition


class ReadOnly(admin.ModelAdmin):
    """Dictionary rows are loaded by `partner dictionary load` and never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DictionaryVersion)
class DictionaryVersionAdmin(ReadOnly):
    list_display = ["number", "released", "loaded_at", "content_hash"]
    exclude = ["definition"]


@admin.register(EntityDefinition)
class EntityDefinitionAdmin(ReadOnly):
    list_display = ["code", "name", "iccc_extended", "orpha", "incidence_vrt", "expert_scope", "version"]
    list_filter = ["version", "incidence_vrt", "expert_scope", "panel"]
