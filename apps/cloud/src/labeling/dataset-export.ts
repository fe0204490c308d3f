import { Inject, Injectable } from '@nestjs/common';
import { DatasetExportRepository } from './dataset-export.repository';
import { splitOf } from './dataset-split';

/**
 * A project's settled samples as a dataset: JSON Lines for every task, COCO
 * for detection, written as they are read from one consistent snapshot
 * (DatasetExportRepository), in constant memory.
 */
@Injectable()
export class DatasetExport {
  constructor(@Inject(DatasetExportRepository) private readonly repository: DatasetExportRepository) {}

  /** Opens a snapshot; `count` is how many samples the export will hold. */
  async open(projectId: string): Promise<{ count: number; jsonl(): AsyncGenerator<string>; coco(classes: string[]): AsyncGenerator<string>; close(): Promise<void> }> {
    const { count, settled, close } = await this.repository.snapshot(projectId);
    return {
      count,
      close,
      async *jsonl() {
        for await (const row of settled()) {
          yield `${JSON.stringify({
            sampleId: row.sampleId,
            image: { key: row.imageKey, url: `/api/samples/${row.sampleId}/image` },
            label: row.answer,
            labelers: row.labelers,
            reviewer: row.reviewer,
            prediction: { verdict: row.verdict, modelVersion: row.modelVersion, ...(row.prediction as object) },
            split: splitOf(row.sampleId),
            stationId: row.stationId,
            capturedAt: row.capturedAt.toISOString(),
          })}\n`;
        }
      },
      async *coco(classes: string[]) {
        const categories = classes.map((name, index) => ({ id: index + 1, name }));
        yield `{"info":{"description":"Loupe export"},"categories":${JSON.stringify(categories)},"images":[`;
        let imageId = 0;
        for await (const row of settled()) {
          imageId++;
          yield `${imageId > 1 ? ',' : ''}${JSON.stringify({ id: imageId, file_name: row.imageKey, loupe_sample_id: row.sampleId, split: splitOf(row.sampleId) })}`;
        }
        yield '],"annotations":[';
        // The same snapshot and order again, so image ids match.
        imageId = 0;
        let annotationId = 0;
        for await (const row of settled()) {
          imageId++;
          for (const box of row.answer.boxes ?? []) {
            annotationId++;
            const category = classes.indexOf(box.className) + 1;
            yield `${annotationId > 1 ? ',' : ''}${JSON.stringify({
              id: annotationId,
              image_id: imageId,
              category_id: category,
              bbox: [box.x, box.y, box.width, box.height],
              area: box.width * box.height,
              iscrowd: 0,
            })}`;
          }
        }
        yield ']}\n';
      },
    };
  }
}
