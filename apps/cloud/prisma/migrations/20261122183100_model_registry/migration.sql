-- CreateTable
CREATE TABLE "model_versions" (
    "model_name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "task" TEXT NOT NULL,
    "package_key" TEXT NOT NULL,
    "package_sha256" CHAR(64) NOT NULL,
    "package_bytes" INTEGER NOT NULL,
    "manifest" JSONB NOT NULL,
    "validation" JSONB NOT NULL,
    "metrics" JSONB NOT NULL,
    "dataset_export" TEXT,
    "parent_version" INTEGER,
    "notes" TEXT NOT NULL,
    "author_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("model_name","version")
);

-- CreateTable
CREATE TABLE "model_aliases" (
    "model_name" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "moved_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "model_aliases_pkey" PRIMARY KEY ("model_name","alias")
);

-- CreateTable
CREATE TABLE "model_alias_moves" (
    "id" BIGSERIAL NOT NULL,
    "model_name" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "from_version" INTEGER,
    "to_version" INTEGER NOT NULL,
    "actor_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "moved_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_alias_moves_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "model_alias_moves_model_name_moved_at_idx" ON "model_alias_moves"("model_name", "moved_at");

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_alias_moves" ADD CONSTRAINT "model_alias_moves_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
