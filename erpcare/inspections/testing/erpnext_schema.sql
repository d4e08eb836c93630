-- A schema fixture of ERPNext v15 (Frappe v15) on MariaDB: the tables and columns that the
-- erpnext-business-integrity pack reads, as Frappe creates them from the DocType
-- definitions (erpnext/accounts/doctype/gl_entry/gl_entry.json, stock/doctype/bin,
-- buying/doctype/purchase_order, accounts/doctype/sales_invoice, frappe/core/doctype/
-- scheduled_job_type, user and has_role). Not a live ERPNext: only the columns the checks
-- read plus Frappe's standard ones (name, creation, modified, docstatus), no indexes.
-- Types follow Frappe's mapping: Currency/Float -> decimal(21,9), Check -> int(1),
-- Date -> date, Datetime -> datetime(6), Link/Data/Select -> varchar(140).
-- Every statement ends with ';' on its own line end: the test splits on that.

CREATE TABLE `tabGL Entry` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `docstatus` int(1) NOT NULL DEFAULT 0,
  `posting_date` date DEFAULT NULL,
  `account` varchar(140) DEFAULT NULL,
  `debit` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  `credit` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  `voucher_type` varchar(140) DEFAULT NULL,
  `voucher_no` varchar(140) DEFAULT NULL,
  -- Cancelling a voucher marks its entries and the reversing ones is_cancelled = 1 (v13+).
  `is_cancelled` int(1) NOT NULL DEFAULT 0,
  `company` varchar(140) DEFAULT NULL,
  `fiscal_year` varchar(140) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per item and warehouse: the stock ledger's running totals.
CREATE TABLE `tabBin` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `item_code` varchar(140) DEFAULT NULL,
  `warehouse` varchar(140) DEFAULT NULL,
  `actual_qty` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  `reserved_qty` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  `ordered_qty` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `tabPurchase Order` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  -- 0 draft (where approval workflows wait), 1 submitted, 2 cancelled
  `docstatus` int(1) NOT NULL DEFAULT 0,
  `naming_series` varchar(140) DEFAULT NULL,
  `supplier` varchar(140) DEFAULT NULL,
  `transaction_date` date DEFAULT NULL,
  `company` varchar(140) DEFAULT NULL,
  -- Draft | On Hold | To Receive and Bill | To Bill | To Receive | Completed | Cancelled | Closed | Delivered
  `status` varchar(140) DEFAULT 'Draft',
  `workflow_state` varchar(140) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `tabSales Invoice` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `docstatus` int(1) NOT NULL DEFAULT 0,
  -- e.g. ACC-SINV-.YYYY.- (the name is ACC-SINV-2025-00001; amendments add -1, -2)
  `naming_series` varchar(140) DEFAULT NULL,
  `customer` varchar(140) DEFAULT NULL,
  `posting_date` date DEFAULT NULL,
  `company` varchar(140) DEFAULT NULL,
  `is_return` int(1) NOT NULL DEFAULT 0,
  `amended_from` varchar(140) DEFAULT NULL,
  `status` varchar(140) DEFAULT 'Draft',
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `tabScheduled Job Type` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `method` varchar(140) DEFAULT NULL,
  `stopped` int(1) NOT NULL DEFAULT 0,
  -- All | Hourly | Hourly Long | Daily | Daily Long | Weekly | Weekly Long | Monthly | Monthly Long | Cron | Yearly | Annual
  `frequency` varchar(140) DEFAULT NULL,
  `cron_format` varchar(140) DEFAULT NULL,
  `last_execution` datetime(6) DEFAULT NULL,
  `create_log` int(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `tabUser` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `enabled` int(1) NOT NULL DEFAULT 1,
  `email` varchar(140) DEFAULT NULL,
  `full_name` varchar(140) DEFAULT NULL,
  -- System User (desk) | Website User (portal)
  `user_type` varchar(140) DEFAULT 'System User',
  `last_login` varchar(140) DEFAULT NULL,
  `last_active` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A child table of User (parenttype 'User', parentfield 'roles').
CREATE TABLE `tabHas Role` (
  `name` varchar(140) NOT NULL,
  `creation` datetime(6) DEFAULT NULL,
  `modified` datetime(6) DEFAULT NULL,
  `parent` varchar(140) DEFAULT NULL,
  `parentfield` varchar(140) DEFAULT NULL,
  `parenttype` varchar(140) DEFAULT NULL,
  `idx` int(8) NOT NULL DEFAULT 0,
  `role` varchar(140) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
