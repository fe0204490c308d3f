-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "model_name" TEXT NOT NULL,
    "task" TEXT NOT NULL,
    "classes" TEXT[],
    "consensus" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "label_tasks" (
    "sample_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "priority" REAL NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'open',
    "enqueued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "answers" INTEGER NOT NULL DEFAULT 0,
    "lease_holder" UUID,
    "lease_token" BIGINT NOT NULL DEFAULT 0,
    "lease_expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "label_tasks_pkey" PRIMARY KEY ("sample_id")
);

-- CreateTable
CREATE TABLE "labels" (
    "id" BIGSERIAL NOT NULL,
    "sample_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "labeler_id" UUID NOT NULL,
    "answer_key" TEXT NOT NULL,
    "answer" JSONB NOT NULL,
    "spent_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "labels_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "label_skips" (
    "sample_id" UUID NOT NULL,
    "labeler_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "label_skips_pkey" PRIMARY KEY ("sample_id","labeler_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "projects_name_key" ON "projects"("name");

-- CreateIndex
CREATE UNIQUE INDEX "projects_model_name_key" ON "projects"("model_name");

-- CreateIndex
CREATE INDEX "label_tasks_project_id_state_priority_enqueued_at_idx" ON "label_tasks"("project_id", "state", "priority" DESC, "enqueued_at");

-- CreateIndex
CREATE INDEX "labels_labeler_id_created_at_idx" ON "labels"("labeler_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "labels_sample_id_labeler_id_key" ON "labels"("sample_id", "labeler_id");

-- AddForeignKey
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_sample_id_fkey" FOREIGN KEY ("sample_id") REFERENCES "samples"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "label_tasks" ADD CONSTRAINT "label_tasks_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "labels" ADD CONSTRAINT "labels_sample_id_fkey" FOREIGN KEY ("sample_id") REFERENCES "samples"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "labels" ADD CONSTRAINT "labels_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "labels" ADD CONSTRAINT "labels_labeler_id_fkey" FOREIGN KEY ("labeler_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "label_skips" ADD CONSTRAINT "label_skips_sample_id_fkey" FOREIGN KEY ("sample_id") REFERENCES "samples"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "label_skips" ADD CONSTRAINT "label_skips_labeler_id_fkey" FOREIGN KEY ("labeler_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

