-- DropIndex
DROP INDEX "device_model_stats_model_name_model_version_idx";
