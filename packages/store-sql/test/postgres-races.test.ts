import { createPostgresDatabase } from '@gatehouse/testkit'
import { inject } from 'vitest'
import { describeRaces } from './describe-races.js'

describeRaces('PostgreSQL', () => createPostgresDatabase(inject('postgresUrl')))
