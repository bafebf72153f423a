/** placeholder */
export const page = "<!doctype html><title>dabgent</title>"
