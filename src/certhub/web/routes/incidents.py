"""Web UI routes for incidents (names are prefixed "web:" like every UI page)."""

from django.urls import path

from ..views.incidents import actions, pages, public, timeliness

urlpatterns: list = [
    path("", pages.incident_list, name="incidents"),
    path("new/", actions.new_incident, name="incident_new"),
    path("triage/", pages.triage, name="incident_triage"),
    path("triage/<int:pk>/assign/", actions.assign, name="incident_assign"),
    path("requests/", pages.request_inbox, name="incident_requests"),
    path("timeliness/", timeliness.timeliness, name="incident_timeliness"),
    path("report/", public.report, name="incident_report"),
    path("report/sent/", public.report_sent, name="incident_report_sent"),
    path("<int:pk>/", pages.incident_detail, name="incident"),
    path("<int:pk>/timeline/", pages.incident_timeline, name="incident_timeline"),
    path("<int:pk>/comment/", actions.comment, name="incident_comment"),
    path("<int:pk>/status/", actions.change_status, name="incident_status"),
    path("<int:pk>/classification/", actions.classify, name="incident_classify"),
    path("<int:pk>/sharing/", actions.audience, name="incident_audience"),
    path("<int:pk>/tasks/", actions.add_task, name="incident_task_add"),
    path("<int:pk>/tasks/<int:task_pk>/done/", actions.task_done, name="incident_task_done"),
    path("<int:pk>/attachments/", actions.attachments, name="incident_attachments"),
    path("<int:pk>/attachments/<int:attachment_pk>/", pages.attachment_download,
         name="incident_attachment"),
    path("<int:pk>/values/", actions.add_value, name="incident_add_value"),
    path("<int:pk>/involved/", actions.add_involved, name="incident_add_involved"),
    path("<int:pk>/links/", actions.add_link, name="incident_add_link"),
    path("<int:pk>/requests/", pages.incident_requests, name="incident_request_list"),
    path("<int:pk>/requests/new/", actions.send_request, name="incident_request_send"),
    path("<int:pk>/requests/<int:request_pk>/accept/", actions.accept_request,
         name="incident_request_accept"),
    path("<int:pk>/requests/<int:request_pk>/decline/", actions.decline_request,
         name="incident_request_decline"),
    path("<int:pk>/requests/<int:request_pk>/complete/", actions.complete_request,
         name="incident_request_complete"),
    path("<int:pk>/requests/<int:request_pk>/cancel/", actions.cancel_request,
         name="incident_request_cancel"),
]
