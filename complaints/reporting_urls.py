from django.urls import path

from complaints import reporting_views

app_name = "complaints_quality"

urlpatterns = [
    path("", reporting_views.public, name="public"),
]
