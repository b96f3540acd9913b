"""Web UI routes for intel (names are prefixed "web:" like every UI page)."""

from django.urls import path

from ..views.intel import imports, reports, values

urlpatterns: list = [
    path("", reports.report_list, name="intel-reports"),
    path("reports/new/", reports.report_create, name="intel-report-new"),
    path("reports/<int:pk>/", reports.report_detail, name="intel-report"),
    path("reports/<int:pk>/edit/", reports.report_edit, name="intel-report-edit"),
    path("reports/<int:pk>/delete/", reports.report_delete, name="intel-report-delete"),
    path("reports/<int:pk>/observables/", reports.report_add_observables,
         name="intel-report-observables"),
    path("reports/<int:pk>/export/<slug:fmt>/", reports.report_export,
         name="intel-report-export"),
    path("import/", imports.import_index, name="intel-import"),
    path("import/stix/", imports.import_stix, name="intel-import-stix"),
    path("import/misp/", imports.import_misp, name="intel-import-misp"),
    path("import/csv/", imports.import_csv, name="intel-import-csv"),
    path("import/text/", imports.import_text, name="intel-import-text"),
    path("values/<str:type>/<path:value>", values.value_page, name="intel-value"),
    path("sightings/new/", values.sighting_add, name="intel-sighting-new"),
    path("lookup/", values.lookup, name="intel-lookup"),
    path("tags/", reports.tag_suggest, name="intel-tags"),
]
