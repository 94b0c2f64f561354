from django.contrib import admin

from .models import Centre, Country, Membership, NationalGroup


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(NationalGroup)
class NationalGroupAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name", "country", "contact_email"]


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "country"]
    list_filter = ["country"]
    search_fields = ["code", "name", "city"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "centre", "country"]
    list_filter = ["role", "country"]
    autocomplete_fields = ["centre", "country"]
