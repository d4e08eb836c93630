from django.http import Http404, HttpRequest, HttpResponse


def integrations(request: HttpRequest) -> HttpResponse:
    raise Http404
