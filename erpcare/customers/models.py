"""Customer organizations, their contracts and the ERP instances we support for them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import validate_time_zone


class CustomerTier(models.TextChoices):
    VIP = "vip", _("VIP")
    STANDARD = "standard", _("Standard")
    BASIC = "basic", _("Basic")


class Organization(models.Model):
    """A customer company (or, for an in-house IT team, a business unit)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    tier = models.CharField(
        _("tier"), max_length=16, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_organizations",
        help_text=_("Told when this customer's SLA escalates."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer organization")
        verbose_name_plural = _("customer organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A named person at the customer: key user, IT contact, escalation manager."""

    class Kind(models.TextChoices):
        KEY_USER = "key_user", _("Key user")
        IT = "it", _("IT contact")
        ESCALATION = "escalation", _("Escalation contact")
        BILLING = "billing", _("Billing contact")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.KEY_USER)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """A support contract: the period and service level the customer pays for.

    The SLA engine attaches its policy to the contract's service level.
    """

    class ServiceLevel(models.TextChoices):
        VIP = "vip", _("VIP")
        STANDARD = "standard", _("Standard")
        BASIC = "basic", _("Basic")

    class SupportHours(models.TextChoices):
        ALWAYS = "24x7", _("24×7")
        BUSINESS = "business", _("Business hours")
        EXTENDED = "extended", _("Extended hours (08:00–22:00, 7 days)")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contracts"
    )
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    service_level = models.CharField(
        _("service level"), max_length=16, choices=ServiceLevel.choices
    )
    support_hours = models.CharField(
        _("support hours"), max_length=16, choices=SupportHours.choices
    )

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["organization", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A contract cannot end before it starts.")})


class ErpProduct(models.TextChoices):
    SAP = "sap", _("SAP")
    ORACLE_EBS = "oracle_ebs", _("Oracle E-Business Suite")
    YONYOU = "yonyou", _("Yonyou (用友)")
    KINGDEE = "kingdee", _("Kingdee (金蝶)")
    ODOO = "odoo", _("Odoo")
    ERPNEXT = "erpnext", _("ERPNext")
    TRYTON = "tryton", _("Tryton")
    CUSTOM = "custom", _("Custom ERP")


class ErpEnvironment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    TEST = "test", _("Test")
    DEVELOPMENT = "development", _("Development")


class ErpInstance(models.Model):
    """One installation of an ERP product that we support for a customer."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("owner organization"),
        on_delete=models.CASCADE,
        related_name="erp_instances",
    )
    name = models.CharField(_("name"), max_length=120)
    product = models.CharField(_("product"), max_length=16, choices=ErpProduct.choices)
    version = models.CharField(_("version"), max_length=40, blank=True)
    environment = models.CharField(
        _("environment"),
        max_length=16,
        choices=ErpEnvironment.choices,
        default=ErpEnvironment.PRODUCTION,
    )
    modules = models.JSONField(
        _("modules"), default=list, blank=True, help_text=_("ERP modules in use.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ERP instance")
        verbose_name_plural = _("ERP instances")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_erp_instance_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()})"


class ErpModule(models.TextChoices):
    GL = "gl", _("General ledger")
    AP = "ap", _("Accounts payable")
    AR = "ar", _("Accounts receivable")
    FIXED_ASSETS = "fa", _("Fixed assets")
    PURCHASING = "purchasing", _("Purchasing")
    INVENTORY = "inventory", _("Inventory")
    SALES = "sales", _("Sales")
    PRODUCTION = "production", _("MRP and production")
    HR_PAYROLL = "hr", _("HR and payroll")
    REPORTING = "reporting", _("Reporting")
    INTEGRATION = "integration", _("Integration")
    PLATFORM = "platform", _("Platform")
