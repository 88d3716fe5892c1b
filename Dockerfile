# One image for `crm serve` and `crm worker` (and `crm migrate`, `crm create-admin`).

# The staff admin (react-admin + Vite), built in its own stage: only admin/dist reaches the image.
FROM node:20-slim AS admin
WORKDIR /admin
COPY admin/package.json admin/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY admin ./
RUN npm run build

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY crm ./crm
COPY jobs ./jobs
COPY alembic ./alembic
COPY email_templates ./email_templates
# Installed in place: the package finds its templates and migrations beside it in /app.
RUN /opt/venv/bin/pip install -e .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 CRM_LOG_JSON=true CRM_ENVIRONMENT=production
RUN useradd --create-home --uid 10001 crm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --from=admin /admin/dist /app/admin/dist
WORKDIR /app
USER crm
EXPOSE 8000
ENTRYPOINT ["crm"]
CMD ["serve", "--host", "0.0.0.0"]
