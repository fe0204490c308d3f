-- CreateIndex
CREATE INDEX "label_tasks_project_id_state_lease_expires_at_idx" ON "label_tasks"("project_id", "state", "lease_expires_at");
