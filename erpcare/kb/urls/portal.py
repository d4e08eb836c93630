from django.urls import path

from erpcare.kb.views import portal

app_name = "kb_portal"

urlpatterns = [
    path("", portal.home, name="home"),
    path("popular", portal.popular, name="popular"),
    path("suggest", portal.suggest, name="suggest"),
    path("articles/<str:number>/", portal.article_detail, name="article"),
    path("articles/<str:number>/feedback", portal.feedback, name="feedback"),
    path("articles/<str:number>/solved", portal.solved, name="solved"),
    path("articles/<str:number>/files/<int:attachment_id>", portal.file, name="file"),
]
