-- CreateIndex
CREATE INDEX "label_tasks_project_id_state_sample_id_idx" ON "label_tasks"("project_id", "state", "sample_id");
