import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '@pushtech/http';

export type UploadOutcome = 'stored' | 'invalid' | 'too_large' | 'busy' | 'failed';

function createImageserverMetrics(registry: Registry) {
  return {
    uploads: new Counter({ name: 'imageserver_uploads_total', help: 'Uploads by outcome', labelNames: ['outcome'] as const, registers: [registry] }),
    processingSeconds: new Histogram({
      name: 'imageserver_processing_seconds', help: 'Time to decode an upload and encode its variants',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [registry],
    }),
    waitingUploads: new Gauge({ name: 'imageserver_waiting_uploads', help: 'Uploads waiting for a processing slot', registers: [registry] }),
    served: new Counter({ name: 'imageserver_variants_served_total', help: 'Variant files served (200 and 304)', labelNames: ['variant', 'format', 'status'] as const, registers: [registry] }),
    deleted: new Counter({ name: 'imageserver_deleted_total', help: 'Images deleted by their owner', registers: [registry] }),
  };
}

export type ImageserverMetrics = ReturnType<typeof createImageserverMetrics>;

/** The imageserver's series on `registry`, made on first use: its errors and its routes share them. */
export const imageserverMetrics = perRegistry(createImageserverMetrics);
