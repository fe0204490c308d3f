-- AlterTable
ALTER TABLE "model_versions" ADD COLUMN     "lineage" JSONB;

-- CreateTable
CREATE TABLE "training_policies" (
    "project_id" UUID NOT NULL,
    "margin" DOUBLE PRECISION NOT NULL,
    "promotion" TEXT NOT NULL,
    "every_new_labels" INTEGER,
    "every_hours" DOUBLE PRECISION,
    "fleet_group" TEXT NOT NULL,
    "rollout_plan" JSONB,
    "updated_by" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "triggered_at" TIMESTAMPTZ(3),
    "triggered_labels" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "training_policies_pkey" PRIMARY KEY ("project_id")
);

-- CreateTable
CREATE TABLE "promotions" (
    "run_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "model_name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "decision" TEXT NOT NULL,
    "rollout_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "promotions_pkey" PRIMARY KEY ("run_id")
);

-- CreateTable
CREATE TABLE "promotion_events" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" JSONB NOT NULL,

    CONSTRAINT "promotion_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "promotions_project_id_idx" ON "promotions"("project_id");

-- CreateIndex
CREATE UNIQUE INDEX "promotions_model_name_version_key" ON "promotions"("model_name", "version");

-- CreateIndex
CREATE INDEX "promotion_events_run_id_id_idx" ON "promotion_events"("run_id", "id");

-- AddForeignKey
ALTER TABLE "training_policies" ADD CONSTRAINT "training_policies_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training_policies" ADD CONSTRAINT "training_policies_updated_by_fkey" FOREIGN KEY ("updated_by") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_events" ADD CONSTRAINT "promotion_events_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "promotions"("run_id") ON DELETE RESTRICT ON UPDATE CASCADE;
