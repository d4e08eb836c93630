-- A schema fixture of Odoo 17.0 (Community) on PostgreSQL: the tables and columns that the
-- odoo-business-integrity pack reads, as Odoo's ORM creates them from the model definitions
-- (odoo/addons/base, account, stock, purchase). Not a live Odoo: no constraints beyond
-- the primary keys, and only the columns the checks read plus a few that identify a row.
-- Types follow the ORM's mapping: Char -> varchar, Monetary/Float -> numeric,
-- Datetime -> timestamp without time zone (UTC), translatable Char -> jsonb (Odoo 16+).

CREATE TABLE res_company (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    -- Lock dates of Odoo 17 (moved to other fields in 18): non-advisers cannot post on or
    -- before period_lock_date, nobody on or before fiscalyear_lock_date.
    period_lock_date date,
    fiscalyear_lock_date date,
    tax_lock_date date
);

CREATE TABLE res_users (
    id serial PRIMARY KEY,
    login varchar NOT NULL UNIQUE,
    active boolean DEFAULT true,
    -- True for portal and public users (computed and stored from their groups).
    share boolean,
    company_id integer NOT NULL,
    create_date timestamp without time zone,
    write_date timestamp without time zone
);

-- One row per sign-in (res.users.log; create_uid is the user who signed in). Odoo's
-- autovacuum keeps only the newest row per user.
CREATE TABLE res_users_log (
    id serial PRIMARY KEY,
    create_uid integer,
    create_date timestamp without time zone,
    write_uid integer,
    write_date timestamp without time zone
);

CREATE TABLE res_groups (
    id serial PRIMARY KEY,
    name jsonb NOT NULL
);

CREATE TABLE res_groups_users_rel (
    gid integer NOT NULL,
    uid integer NOT NULL,
    PRIMARY KEY (gid, uid)
);

-- External identifiers: base.group_system is the group whose members are administrators.
CREATE TABLE ir_model_data (
    id serial PRIMARY KEY,
    module varchar NOT NULL,
    name varchar NOT NULL,
    model varchar NOT NULL,
    res_id integer,
    noupdate boolean DEFAULT false
);

-- Odoo 17 ir.cron (numbercall and doall are removed in 18); the job's name is cron_name,
-- a stored copy of its server action's name.
CREATE TABLE ir_cron (
    id serial PRIMARY KEY,
    ir_actions_server_id integer NOT NULL,
    cron_name varchar,
    user_id integer NOT NULL,
    active boolean DEFAULT true,
    interval_number integer,
    interval_type varchar,
    numbercall integer,
    doall boolean,
    nextcall timestamp without time zone NOT NULL,
    lastcall timestamp without time zone,
    priority integer
);

CREATE TABLE account_journal (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    code varchar(5) NOT NULL,
    -- sale | purchase | cash | bank | general
    type varchar NOT NULL,
    company_id integer NOT NULL
);

CREATE TABLE account_move (
    id serial PRIMARY KEY,
    -- The number ("INV/2024/00001"); "/" until the move is posted the first time.
    name varchar,
    ref varchar,
    date date NOT NULL,
    -- draft | posted | cancel
    state varchar NOT NULL,
    -- entry | out_invoice | out_refund | in_invoice | in_refund | out_receipt | in_receipt
    move_type varchar NOT NULL,
    journal_id integer NOT NULL,
    company_id integer,
    invoice_date date,
    -- sequence.mixin's split of name; the checks parse name themselves so a number
    -- changed by SQL is seen even when these were not updated with it.
    sequence_prefix varchar,
    sequence_number integer,
    create_date timestamp without time zone,
    write_date timestamp without time zone
);

CREATE TABLE account_move_line (
    id serial PRIMARY KEY,
    move_id integer NOT NULL,
    name varchar,
    account_id integer,
    debit numeric,
    credit numeric,
    balance numeric,
    -- A stored copy of the move's state.
    parent_state varchar,
    date date,
    journal_id integer,
    company_id integer,
    display_type varchar
);

CREATE TABLE stock_location (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    complete_name varchar,
    -- supplier | view | internal | customer | inventory | production | transit
    usage varchar NOT NULL,
    company_id integer,
    active boolean DEFAULT true
);

CREATE TABLE stock_quant (
    id serial PRIMARY KEY,
    product_id integer NOT NULL,
    location_id integer NOT NULL,
    lot_id integer,
    company_id integer,
    quantity numeric,
    reserved_quantity numeric NOT NULL DEFAULT 0,
    in_date timestamp without time zone
);

CREATE TABLE purchase_order (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    -- draft | sent | to approve | purchase | done | cancel
    state varchar,
    date_order timestamp without time zone NOT NULL,
    date_approve timestamp without time zone,
    partner_id integer NOT NULL,
    company_id integer NOT NULL,
    create_date timestamp without time zone,
    write_date timestamp without time zone
);
