# Production image: gunicorn serves the portal, the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# gettext for compilemessages; pango for WeasyPrint PDF reports; pg client for backups.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core postgresql-client curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip
COPY . .
RUN pip install -e . \
 && DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only python manage.py compilemessages --ignore .venv -v 0 \
 && DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input -v 0

RUN useradd --system --home /app nup && mkdir -p /app/media && chown nup /app/media
USER nup
EXPOSE 8000
CMD ["gunicorn", "nupportal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
