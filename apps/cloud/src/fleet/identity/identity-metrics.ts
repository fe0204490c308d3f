import { Counter, type Registry } from 'prom-client';

/** The numbers an operator watches about device identity, in the cloud's registry. */
export class IdentityMetrics {
  readonly enrollments: Counter<'outcome'>;
  readonly brokerConnects: Counter<'outcome'>;
  readonly brokerDenials: Counter<'action'>;

  constructor(registry: Registry) {
    this.enrollments = new Counter({
      name: 'loupe_cloud_device_enrollments_total',
      help: 'Enrollment attempts, by outcome: enrolled, or the refusal (token-unknown, token-used, token-expired, token-for-another-device).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.brokerConnects = new Counter({
      name: 'loupe_cloud_broker_connects_total',
      help: 'CONNECTs to the embedded broker, by outcome: device, service, or the refusal (anonymous, bad-credentials, wrong-client-id).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.brokerDenials = new Counter({
      name: 'loupe_cloud_broker_denials_total',
      help: "PUBLISHes and SUBSCRIBEs the embedded broker refused by the ACL rules, by action: a device reaching beyond its own topics.",
      labelNames: ['action'],
      registers: [registry],
    });
  }
}
