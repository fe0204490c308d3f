-- CreateTable
CREATE TABLE "samples" (
    "id" UUID NOT NULL,
    "site_id" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "station_id" TEXT NOT NULL,
    "unit_serial" TEXT NOT NULL,
    "captured_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model_name" TEXT NOT NULL,
    "model_version" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "prediction" JSONB NOT NULL,
    "priority" REAL NOT NULL,
    "reason" TEXT NOT NULL,
    "image_key" TEXT NOT NULL,
    "image_sha256" CHAR(64) NOT NULL,
    "image_bytes" INTEGER NOT NULL,
    "image_media_type" TEXT NOT NULL,

    CONSTRAINT "samples_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "topic" TEXT NOT NULL,
    "site_id" TEXT,
    "device_id" TEXT,
    "sample_id" TEXT,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "payload_bytes" INTEGER NOT NULL,
    "payload_head" BYTEA NOT NULL,

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "samples_priority_received_at_idx" ON "samples"("priority" DESC, "received_at");

-- CreateIndex
CREATE INDEX "samples_site_id_device_id_idx" ON "samples"("site_id", "device_id");

-- CreateIndex
CREATE INDEX "dead_letters_reason_received_at_idx" ON "dead_letters"("reason", "received_at");
