"""Users, roles, teams and API tokens."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class SupportTier(models.IntegerChoices):
    L1 = 1, _("L1 service desk")
    L2 = 2, _("L2 engineering")
    L3 = 3, _("L3 experts and vendor")


class RoleCode(models.TextChoices):
    CUSTOMER = "customer", _("Customer user")
    L1_AGENT = "l1_agent", _("L1 agent")
    L2_ENGINEER = "l2_engineer", _("L2 engineer")
    L3_EXPERT = "l3_expert", _("L3 expert")
    MANAGER = "manager", _("Support manager")
    ADMIN = "admin", _("Administrator")
    AUDITOR = "auditor", _("Auditor")


AGENT_ROLES = frozenset({RoleCode.L1_AGENT, RoleCode.L2_ENGINEER, RoleCode.L3_EXPERT})
SEES_ALL_ROLES = frozenset({RoleCode.MANAGER, RoleCode.ADMIN, RoleCode.AUDITOR})
STAFF_ROLES = AGENT_ROLES | {RoleCode.MANAGER, RoleCode.ADMIN}
ROLE_TIER = {
    RoleCode.L1_AGENT: SupportTier.L1,
    RoleCode.L2_ENGINEER: SupportTier.L2,
    RoleCode.L3_EXPERT: SupportTier.L3,
}


class Role(models.Model):
    """A named set of capabilities; rows are created by a data migration, one per RoleCode."""

    code = models.CharField(_("code"), max_length=32, choices=RoleCode.choices, unique=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(RoleCode(self.code).label)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser):
    """A person who signs in with an e-mail address: staff or a customer's ERP user.

    Customer users belong to exactly one organization; staff users belong to none and
    reach customers through their teams.
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=[("en", "English"), ("zh-hans", "简体中文")],
        help_text=_("Empty means: follow the browser."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="users"
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("Required for customer users; empty for staff."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        if self.role_id and self.role.code == RoleCode.CUSTOMER and not self.organization_id:
            raise ValidationError({"organization": _("A customer user needs an organization.")})
        if self.role_id and self.role.code != RoleCode.CUSTOMER and self.organization_id:
            raise ValidationError({"organization": _("Staff users belong to no organization.")})

    # Capabilities derived from the role; the role row is select_related on sign-in.
    @property
    def role_code(self) -> str:
        return self.role.code

    @property
    def is_customer(self) -> bool:
        return self.role.code == RoleCode.CUSTOMER

    @property
    def is_agent(self) -> bool:
        return self.role.code in AGENT_ROLES

    @property
    def is_support_staff(self) -> bool:
        """Works tickets: agents, managers and admins (not auditors, not customers)."""
        return self.role.code in STAFF_ROLES

    @property
    def sees_all_tickets(self) -> bool:
        return self.role.code in SEES_ALL_ROLES

    @property
    def is_read_only(self) -> bool:
        return self.role.code == RoleCode.AUDITOR

    @property
    def tier(self) -> SupportTier | None:
        return ROLE_TIER.get(RoleCode(self.role.code))

    @property
    def is_staff(self) -> bool:  # used by Django's own views and templates
        return self.role.code in STAFF_ROLES or self.role.code == RoleCode.AUDITOR


class Team(models.Model):
    """A group of staff serving one support tier, e.g. 财务组 (L1) or 平台组 (L3).

    A team serves either every customer or the customers listed in ``customers``;
    its members see those customers' tickets.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    tier = models.PositiveSmallIntegerField(_("support tier"), choices=SupportTier.choices)
    serves_all_customers = models.BooleanField(_("serves all customers"), default=True)
    customers = models.ManyToManyField(
        "customers.Organization",
        blank=True,
        related_name="serving_teams",
        verbose_name=_("customers served"),
    )
    members = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["tier", "name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(_("team lead"), default=False)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_member"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 digest of the secret is stored;
    the full token is shown once, when it is created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
