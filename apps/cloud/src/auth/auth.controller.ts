import {
  createUserRequestSchema,
  loginRequestSchema,
  loginResponseSchema,
  userListResponseSchema,
  userSchema,
  type LoginResponse,
  type UserDto,
} from '@loupe/api-contracts';
import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiRoute, parseBody } from '../http/api-route';
import { AuthService } from './auth.service';
import { Allow, ANY_ROLE, Public } from './roles';
import { SignInRoute } from './sign-in-throttle';
import type { SignedInRequest } from './session.guard';
import { UserRepository } from './user.repository';

@Controller('api/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @SignInRoute()
  @ApiRoute({
    summary:
      'Sign in; the token also comes as the loupe_session cookie. Throttled per client address and per account ' +
      '(SIGN_IN_ATTEMPTS_PER_ADDRESS, SIGN_IN_ATTEMPTS_PER_ACCOUNT per SIGN_IN_WINDOW): 429 with Retry-After; 503 with Retry-After when too many passwords are being checked at once.', body: loginRequestSchema, response: loginResponseSchema })
  async login(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<LoginResponse> {
    const { email, password } = parseBody(loginRequestSchema, body);
    const session = await this.auth.login(email, password);
    void reply.header(
      'set-cookie',
      `loupe_session=${session.token}; Path=/; HttpOnly; SameSite=Strict; Expires=${session.expiresAt.toUTCString()}`,
    );
    return { token: session.token, expiresAt: session.expiresAt.toISOString(), user: session.user };
  }

  @Post('logout')
  @HttpCode(204)
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'End this session.' })
  async logout(@Req() request: SignedInRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.auth.logout(request.sessionToken);
    void reply.header('set-cookie', 'loupe_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  }

  @Get('me')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'Who is signed in.', response: userSchema })
  me(@Req() request: SignedInRequest): UserDto {
    return request.user;
  }
}

@Controller('api/users')
export class UsersController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(UserRepository) private readonly users: UserRepository,
  ) {}

  @Get()
  @Allow('admin')
  @ApiRoute({ summary: 'Every user.', response: userListResponseSchema })
  async list(): Promise<{ users: UserDto[] }> {
    return { users: await this.users.list() };
  }

  @Post()
  @Allow('admin')
  @ApiRoute({ summary: 'Add a user with a role.', body: createUserRequestSchema, response: userSchema })
  async create(@Body() body: unknown): Promise<UserDto> {
    const { password, ...user } = parseBody(createUserRequestSchema, body);
    return this.auth.createUser(user, password);
  }
}
