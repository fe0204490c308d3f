export const USER_REPOSITORY = Symbol('UserRepository');
