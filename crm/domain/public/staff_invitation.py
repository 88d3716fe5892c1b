"""The page an invited staff member reaches from the invitation e-mail: choose a password.

A plain server-rendered page, like the other public pages: it works before any admin app is
served, GET shows the form and changes nothing, the token travels in the form."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from crm.domain.providers import provide_staff_service
from crm.domain.public.layout import PublicPages, message, page
from crm.domain.staff.services import StaffService
from crm.lib.problems import ProblemError

PATH = "/staff/invitation"


class StaffInvitationPage(PublicPages):
    path = PATH
    dependencies = {"staff_service": provide_staff_service}

    @get(
        "/",
        operation_id="showStaffInvitation",
        summary="Choose a password",
        description="The form an invited staff member reaches from the e-mail.",
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        token: Annotated[str, QueryParameter(max_length=1000, description="From the e-mail")] = "",
    ) -> Response[str]:
        if not token:
            return message(
                request,
                "Lien incomplet",
                "Ce lien d’invitation est incomplet : reprenez-le depuis l’e-mail reçu.",
                status_code=400,
                kind="error",
            )
        return page(request, "staff_invitation.html", title="Activer votre compte", token=token, action=PATH, errors=[])

    @post(
        "/",
        operation_id="acceptStaffInvitation",
        summary="Set the password",
        description="Sets the invited staff member's password from the form.",
        status_code=200,
    )
    async def accept(
        self, request: Request[Any, Any, Any], staff_service: NamedDependency[StaffService]
    ) -> Response[str]:
        form = await request.form()
        token = str(form.get("token") or "")
        password = str(form.get("password") or "")
        if password != str(form.get("password_again") or ""):
            return page(
                request,
                "staff_invitation.html",
                422,
                title="Activer votre compte",
                token=token,
                action=PATH,
                errors=["Les deux mots de passe diffèrent."],
            )
        try:
            staff = await staff_service.accept_invitation(token, password)
        except ProblemError as exc:
            field = exc.errors[0]["field"] if exc.errors else ""
            if field == "password":
                return page(
                    request,
                    "staff_invitation.html",
                    422,
                    title="Activer votre compte",
                    token=token,
                    action=PATH,
                    errors=["Le mot de passe doit compter au moins 10 caractères."],
                )
            return message(
                request,
                "Lien expiré ou déjà utilisé",
                "Ce lien d’invitation n’est plus valable. Demandez une nouvelle invitation à un administrateur.",
                status_code=410,
                kind="error",
            )
        return message(
            request,
            "Compte activé",
            f"Votre compte {staff.email} est prêt : connectez-vous avec votre adresse et ce mot de passe.",
            kind="notice",
        )
