-- CreateTable
CREATE TABLE "labeler_days" (
    "labeler_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "answers" INTEGER NOT NULL,

    CONSTRAINT "labeler_days_pkey" PRIMARY KEY ("labeler_id","day")
);

-- AddForeignKey
ALTER TABLE "labeler_days" ADD CONSTRAINT "labeler_days_labeler_id_fkey" FOREIGN KEY ("labeler_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The answers given before this table existed.
INSERT INTO "labeler_days" ("labeler_id", "day", "answers")
SELECT "labeler_id", "created_at"::date, count(*)::int FROM "labels" GROUP BY 1, 2;
