"""Channel admin: overview, robots and webhooks, chat intakes, rules, deliveries, preferences."""

from django.urls import URLPattern, URLResolver, path

from erpcare.channels import views_outbound as views

app_name = "channels"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("robots/", views.destinations, name="destinations"),
    path("robots/new", views.destination_new, name="destination_new"),
    path("robots/<int:destination_id>/", views.destination_edit, name="destination"),
    path("robots/<int:destination_id>/test", views.destination_test, name="destination_test"),
    path("robots/<int:destination_id>/delete", views.destination_delete, name="destination_delete"),
    path("chat/", views.chat_intakes, name="chat_intakes"),
    path("chat/new", views.chat_intake_new, name="chat_intake_new"),
    path("chat/<int:intake_id>/", views.chat_intake_edit, name="chat_intake"),
    path("chat/<int:intake_id>/rotate", views.chat_intake_rotate, name="chat_intake_rotate"),
    path("chat/<int:intake_id>/active", views.chat_intake_active, name="chat_intake_active"),
    path(
        "chat/<int:intake_id>/messages/<int:message_id>/reprocess",
        views.chat_message_reprocess,
        name="chat_message_reprocess",
    ),
    path("rules/", views.rules, name="rules"),
    path("rules/new", views.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule"),
    path("rules/<int:rule_id>/delete", views.rule_delete, name="rule_delete"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/retry", views.delivery_retry, name="delivery_retry"),
    path("deliveries/<int:delivery_id>/cancel", views.delivery_cancel, name="delivery_cancel"),
    path("preferences", views.preferences, name="preferences"),
]
