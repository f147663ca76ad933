from waba_cli.app import main

main()
