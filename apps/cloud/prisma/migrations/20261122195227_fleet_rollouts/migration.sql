-- CreateTable
CREATE TABLE "enrollment_tokens" (
    "token_hash" CHAR(64) NOT NULL,
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "fleet_group" TEXT NOT NULL,
    "created_by" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "enrollment_tokens_pkey" PRIMARY KEY ("token_hash")
);

-- CreateTable
CREATE TABLE "device_credentials" (
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "fleet_group" TEXT NOT NULL,
    "enrolled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_credentials_pkey" PRIMARY KEY ("site_id","device_id")
);

-- CreateTable
CREATE TABLE "device_model_states" (
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "desired_generation" BIGINT NOT NULL DEFAULT 0,
    "desired" JSONB,
    "reported_generation" BIGINT NOT NULL DEFAULT 0,
    "reported" JSONB,
    "reported_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_model_states_pkey" PRIMARY KEY ("site_id","device_id")
);

-- CreateTable
CREATE TABLE "device_model_stats" (
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "model_name" TEXT NOT NULL,
    "model_version" TEXT NOT NULL,
    "inspections" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "rejects" BIGINT NOT NULL,
    "uncertain" BIGINT NOT NULL,
    "confidence_histogram" BIGINT[],
    "p99_ms" DOUBLE PRECISION NOT NULL,
    "shadow_version" TEXT,
    "shadow_compared" BIGINT NOT NULL,
    "shadow_disagreed" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "device_model_stats_pkey" PRIMARY KEY ("site_id","device_id","model_name","model_version")
);

-- CreateTable
CREATE TABLE "rollouts" (
    "id" UUID NOT NULL,
    "model_name" TEXT NOT NULL,
    "from_version" INTEGER,
    "to_version" INTEGER NOT NULL,
    "fleet_group" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "state" TEXT NOT NULL,
    "stage" INTEGER NOT NULL DEFAULT 0,
    "bake_started_at" TIMESTAMPTZ(3),
    "reason" TEXT NOT NULL DEFAULT '',
    "created_by" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_devices" (
    "rollout_id" UUID NOT NULL,
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "stage" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "detail" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rollout_devices_pkey" PRIMARY KEY ("rollout_id","site_id","device_id")
);

-- CreateTable
CREATE TABLE "rollout_events" (
    "id" BIGSERIAL NOT NULL,
    "rollout_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" JSONB NOT NULL,

    CONSTRAINT "rollout_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leader_leases" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "term" BIGINT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leader_leases_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "device_credentials_fleet_group_site_id_device_id_idx" ON "device_credentials"("fleet_group", "site_id", "device_id");

-- CreateIndex
CREATE INDEX "device_model_stats_model_name_model_version_idx" ON "device_model_stats"("model_name", "model_version");

-- CreateIndex
CREATE INDEX "rollouts_state_idx" ON "rollouts"("state");

-- CreateIndex
CREATE INDEX "rollout_devices_rollout_id_stage_state_idx" ON "rollout_devices"("rollout_id", "stage", "state");

-- CreateIndex
CREATE INDEX "rollout_events_rollout_id_id_idx" ON "rollout_events"("rollout_id", "id");

-- AddForeignKey
ALTER TABLE "rollout_devices" ADD CONSTRAINT "rollout_devices_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rollout_events" ADD CONSTRAINT "rollout_events_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "rollouts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
