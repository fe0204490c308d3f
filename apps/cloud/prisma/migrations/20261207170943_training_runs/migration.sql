-- CreateTable
CREATE TABLE "training_runs" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "model_name" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "trigger" TEXT NOT NULL,
    "started_by" TEXT NOT NULL,
    "author_id" UUID NOT NULL,
    "backbone_model" TEXT NOT NULL,
    "backbone_version" INTEGER NOT NULL,
    "recipe" JSONB NOT NULL,
    "progress" JSONB,
    "dataset" JSONB,
    "features" JSONB,
    "challenger" JSONB,
    "champion" JSONB,
    "candidate_version" INTEGER,
    "decision" TEXT,
    "rollout_id" UUID,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "training_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sample_features" (
    "backbone_sha256" CHAR(64) NOT NULL,
    "sample_id" UUID NOT NULL,
    "crop_key" TEXT NOT NULL,
    "vector" BYTEA NOT NULL,
    "dimension" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sample_features_pkey" PRIMARY KEY ("backbone_sha256","sample_id","crop_key")
);

-- CreateIndex
CREATE INDEX "training_runs_state_created_at_idx" ON "training_runs"("state", "created_at");

-- CreateIndex
CREATE INDEX "training_runs_project_id_created_at_idx" ON "training_runs"("project_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "training_runs" ADD CONSTRAINT "training_runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
