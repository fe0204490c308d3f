import {
  createEnrollmentTokenRequestSchema,
  enrollmentTokenSchema,
  enrollRequestSchema,
  enrollResponseSchema,
  mosquittoConfigQuerySchema,
  mosquittoConfigResponseSchema,
  revokeDeviceResponseSchema,
  type EnrollmentTokenDto,
  type EnrollResponse,
  type MosquittoConfigResponse,
} from '@loupe/api-contracts';
import { isTopicSegment } from '@loupe/topics';
import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { Allow, Public } from '../../auth/roles';
import type { SignedInRequest } from '../../auth/session.guard';
import { ApiRoute, parseBody } from '../../http/api-route';
import { EnrollmentService } from './enrollment.service';
import { MosquittoConfigService } from './mosquitto-config.service';

function deviceParams(siteId: string, deviceId: string): { siteId: string; deviceId: string } {
  if (!isTopicSegment(siteId) || !isTopicSegment(deviceId)) {
    throw new BadRequestException("siteId and deviceId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return { siteId, deviceId };
}

/** Device identity: enrollment tokens, enrollment, revocation, and the broker configuration that enforces it. */
@Controller('api/fleet')
export class DeviceIdentityController {
  constructor(
    @Inject(EnrollmentService) private readonly enrollment: EnrollmentService,
    @Inject(MosquittoConfigService) private readonly mosquitto: MosquittoConfigService,
  ) {}

  @Post('enrollment-tokens')
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary: 'A one-time token that enrolls one device (shown once; only its SHA-256 is kept). Give it to the box as ENROLLMENT_TOKEN.',
    body: createEnrollmentTokenRequestSchema,
    response: enrollmentTokenSchema,
  })
  async createToken(@Body() body: unknown, @Req() request: SignedInRequest): Promise<EnrollmentTokenDto> {
    const wanted = parseBody(createEnrollmentTokenRequestSchema, body);
    const { token, expiresAt } = await this.enrollment.createToken(wanted, request.user.id);
    return { token, siteId: wanted.siteId, deviceId: wanted.deviceId, fleetGroup: wanted.fleetGroup, expiresAt: expiresAt.toISOString() };
  }

  @Post('enroll')
  @HttpCode(200)
  @Public()
  @ApiRoute({
    summary:
      "A box trades its enrollment token for its broker credentials (the token is the credential here). A used, expired or unknown token is refused (403) with the reason as `error`; enrolling a device again replaces its secret.",
    body: enrollRequestSchema,
    response: enrollResponseSchema,
  })
  async enroll(@Body() body: unknown): Promise<EnrollResponse> {
    const { token, siteId, deviceId } = parseBody(enrollRequestSchema, body);
    return this.enrollment.enroll(token, siteId !== undefined && deviceId !== undefined ? { siteId, deviceId } : undefined);
  }

  @Post('devices/:siteId/:deviceId/revoke')
  @HttpCode(200)
  @Allow('admin')
  @ApiRoute({
    summary:
      "Revokes a device's credentials: the embedded broker disconnects it and refuses it, and so does HTTP; unused tokens for it stop working. " +
      "Mosquitto's dynamic-security plugin (MQTT_DEVICE_ACCOUNTS=mosquitto-dynamic-security) drops the device's account first (503 and nothing revoked when it cannot); " +
      'a Mosquitto on generated files applies it once they are generated again and reloaded.',
    response: revokeDeviceResponseSchema,
  })
  async revoke(@Param('siteId') siteId: string, @Param('deviceId') deviceId: string) {
    const device = deviceParams(siteId, deviceId);
    const { revokedAt } = await this.enrollment.revoke(device);
    return { ...device, revokedAt: revokedAt.toISOString() };
  }

  @Get('mosquitto-config')
  @Allow('admin')
  @ApiRoute({
    summary:
      "Mosquitto 2.0 configuration enforcing the devices' credentials and ACLs: mosquitto.conf, password and ACL files for the devices' listener and the cloud's. " +
      'Query: directory (absolute path of the files on the broker host), devicePort (1883), servicePort (1885). `loupe fleet mosquitto-config` writes them.',
    response: mosquittoConfigResponseSchema,
  })
  async mosquittoConfig(@Query() query: unknown): Promise<MosquittoConfigResponse> {
    return this.mosquitto.generate(parseBody(mosquittoConfigQuerySchema, query));
  }
}
