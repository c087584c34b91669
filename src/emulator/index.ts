/** Local TableStore emulator (work in progress). */
export {};
